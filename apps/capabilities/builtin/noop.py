"""noop: a capability that contributes nothing (for testing capability plumbing)."""

from ..base import Capability

CAPABILITY = Capability(
    id="noop",
    name="No-op",
    description="Does nothing: no tools and no prompt addition. Useful for testing capability wiring.",
    category="Testing",
    icon="circle-off",
)
