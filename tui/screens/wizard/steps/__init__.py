"""The wizard's steps, one widget each, in the order the console walks them."""

from .base import Choices, Note, Picker, Step
from .expiration import ExpirationStep
from .generate import GenerateStep
from .key_type import KeyTypeStep
from .permissions import GrantRow, PermissionsStep
from .region import RegionStep
from .result import ResultStep
from .review import ReviewStep
from .role import RoleStep
from .secure import SecureStep
from .sign_in import SignInStep

# Role applies to v2 keys only, Permissions to v1 keys and tokens only (``Step.applies``).
STEPS: tuple[type[Step], ...] = (SignInStep, KeyTypeStep, RoleStep, RegionStep, ExpirationStep, PermissionsStep,
                                 ReviewStep, GenerateStep, ResultStep, SecureStep)

__all__ = ["STEPS", "Choices", "ExpirationStep", "GenerateStep", "GrantRow", "KeyTypeStep", "Note",
           "PermissionsStep", "Picker", "RegionStep", "ResultStep", "ReviewStep", "RoleStep", "SecureStep",
           "SignInStep", "Step"]
