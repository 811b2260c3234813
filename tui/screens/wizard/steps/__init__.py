"""The wizard's steps, one widget each, in the order the console walks them."""

from .base import Note, Step
from .expiration import ExpirationStep
from .generate import GenerateStep
from .key_type import KeyTypeStep
from .permissions import GrantRow, PermissionsStep
from .region import RegionStep
from .result import ResultStep
from .review import ReviewStep
from .secure import SecureStep
from .sign_in import SignInStep

STEPS: tuple[type[Step], ...] = (SignInStep, RegionStep, KeyTypeStep, ExpirationStep, PermissionsStep, ReviewStep,
                                 GenerateStep, ResultStep, SecureStep)

__all__ = ["STEPS", "ExpirationStep", "GenerateStep", "GrantRow", "KeyTypeStep", "Note", "PermissionsStep",
           "RegionStep", "ResultStep", "ReviewStep", "SecureStep", "SignInStep", "Step"]
