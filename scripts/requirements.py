"""Print the requirements declared in pyproject.toml (runtime, plus the named dependency groups)."""

import sys
import tomllib
from pathlib import Path

data = tomllib.loads((Path(__file__).resolve().parent.parent / "pyproject.toml").read_text())
requirements = list(data["project"]["dependencies"])
for group in sys.argv[1:]:
    requirements += data["dependency-groups"][group]
print("\n".join(requirements))
