"""The accounts app as the application sees it: the token API and the viewer dependencies."""

from __future__ import annotations

from accounts.api import AuthController
from accounts.guards import DEPENDENCIES
from conseils.features import Feature

FEATURE = Feature(name="accounts", api=[AuthController], dependencies=DEPENDENCIES)
