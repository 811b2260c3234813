"""The guided generation wizard: the Momento console's steps, in the terminal.

0 Sign in (the super-user key to act with) → 1 Region → 2 Key type → 3 Expiration →
4 Permissions → 5 Review → 6 Generate → 7 Result → 8 Secure it.

``screen.py`` navigates; ``steps/`` holds one widget per step; ``state.py`` holds what the
user chose and the rules each step applies, in plain Python. A key Momento makes goes
through the one never-lose path (``services.issuing``): stored, or rescued to a file, and
the result step says which.
"""

from .screen import WizardScreen
from .state import WizardState

__all__ = ["WizardScreen", "WizardState"]
