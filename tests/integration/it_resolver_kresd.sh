#!/usr/bin/env bash
# The 2009 story against one resolver software in the lab (Knot Resolver 5.6: no negative
# cap of its own, but cache.max_ttl 86400):
# after dotless -> warm -> restore cachesweep finds every cached NXDOMAIN with a heal time
# within the software's negative-TTL cap; after lagging the truth names the lagging se.
# authority; after `lab flush` through the resolver's own control channel it is healthy.
# shellcheck source=tests/integration/lib.sh
. "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

resolver_story lab-kresd 86400
finish
