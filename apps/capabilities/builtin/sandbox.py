"""sandbox: a placeholder of the target era's catalogue (coming soon, no tools)."""

from ..base import Capability

CAPABILITY = Capability(
    id="sandbox",
    name="Sandbox",
    description="Run code in an isolated sandbox. Not available yet.",
    category="Execution",
    icon="box",
    status="coming_soon",
    risk_level="high",
)
