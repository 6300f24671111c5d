"""research: a placeholder of the target era's catalogue (coming soon, no tools)."""

from ..base import Capability

CAPABILITY = Capability(
    id="research",
    name="Deep Research",
    description="Multi-step web research with cited reports. Not available yet.",
    category="Research",
    icon="search",
    status="coming_soon",
)
