"""The data model, one module per aggregate (SPEC section 1)."""
from .audit import AuditEntry
from .auth import ApiToken, User
from .calendar import Absence, Closure
from .courses import Course, CourseClient, CourseFlag, SessionParticipant, TherapySession
from .feeds import FeedFetch, FeedToken
from .people import Client, Clinician, ClinicianModality, WorkingHours
from .practice import PracticeSettings, Room, Site

# Ids are 32-bit integer columns on PostgreSQL: a larger one names nothing
# (and would overflow the query), so lookups refuse it before asking.
MAX_ID = 2**31 - 1

__all__ = [
    "Absence", "ApiToken", "AuditEntry", "Client", "Clinician", "ClinicianModality",
    "Closure", "Course", "CourseClient", "CourseFlag", "FeedFetch", "FeedToken", "MAX_ID",
    "PracticeSettings", "Room", "SessionParticipant", "Site", "TherapySession",
    "User", "WorkingHours",
]
