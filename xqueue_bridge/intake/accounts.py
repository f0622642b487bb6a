"""
Service accounts of the XQueue API (the LMS, the graders): a password hasher suited to long random
secrets, and the authentication backend that keeps it.

xqueue-watcher waits 1 s for its login and a timeout there ends the client (CONTRACTS §3); Django's
default PBKDF2 (1,000,000 rounds) took over a second under load on two cores. A secret of at least
``SERVICE_SECRET_MIN_LENGTH`` characters made by a random generator cannot be guessed from its hash, so
one salted HMAC-SHA256 protects it as well as PBKDF2 would; passwords of people keep Django's default
(``docs/decisions/0006``).
"""

from __future__ import annotations

import hashlib
import hmac

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.hashers import BasePasswordHasher, check_password, get_hashers_by_algorithm, make_password
from django.utils.crypto import get_random_string

from xqueue_bridge.conf import get_setting

SERVICE_HASHER = "xqueue_bridge.intake.accounts.ServiceSecretHasher"


class ServiceSecretHasher(BasePasswordHasher):
    """One salted HMAC-SHA256: for long random secrets only, never for passwords people choose."""

    algorithm = "xqb_service_hmac_sha256"

    def encode(self, password: str, salt: str) -> str:
        self._check_encode_args(password, salt)
        digest = hmac.new(salt.encode(), password.encode(), hashlib.sha256).hexdigest()
        return f"{self.algorithm}${salt}${digest}"

    def decode(self, encoded: str) -> dict:
        algorithm, salt, digest = encoded.split("$", 2)
        assert algorithm == self.algorithm
        return {"algorithm": algorithm, "hash": digest, "salt": salt}

    def verify(self, password: str, encoded: str) -> bool:
        decoded = self.decode(encoded)
        return hmac.compare_digest(self.encode(password, decoded["salt"]).encode(), encoded.encode())

    def safe_summary(self, encoded: str) -> dict:
        return {"algorithm": self.algorithm, "salt": "…", "hash": "…"}

    def must_update(self, encoded: str) -> bool:
        return False

    def harden_runtime(self, password: str, encoded: str) -> None:
        pass


def service_hasher_enabled() -> bool:
    return ServiceSecretHasher.algorithm in get_hashers_by_algorithm()


def set_service_password(user, password: str) -> None:
    """Store ``password`` with the service hasher when it is long enough (and the hasher is configured)."""
    if len(password) >= get_setting("SERVICE_SECRET_MIN_LENGTH") and service_hasher_enabled():
        user.password = make_password(password, salt=get_random_string(22), hasher=ServiceSecretHasher.algorithm)
    else:
        user.set_password(password)


class ServiceAccountBackend(ModelBackend):
    """
    Authenticates accounts whose password the service hasher stored, without Django's upgrade to the
    preferred hasher at login (which would make every later login slow again); other accounts go on to
    the next backend.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None or password is None:
            return None
        try:
            user = get_user_model()._default_manager.get_by_natural_key(username)
        except get_user_model().DoesNotExist:
            return None
        if not user.password.startswith(ServiceSecretHasher.algorithm + "$"):
            return None
        if check_password(password, user.password) and self.user_can_authenticate(user):
            return user
        return None
