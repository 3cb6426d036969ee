"""SQLAlchemy 2 typed models: everything the service remembers."""
from models.audit import AuditEvent
from models.base import Base, utcnow
from models.mail import Disposition, FolderState, InboundMessage, OutboundMessage, OutStatus
from models.people import Participant, Purpose, Status, Token
from models.quiet import Quiet
from models.trials import Assignment, Experiment
from models.rounds import CalendarReply, Match, MatchMember, Outcome, PairBucket, Round, Share, SitOut

__all__ = [
    "Assignment", "AuditEvent", "Base", "CalendarReply", "Disposition", "Experiment", "FolderState", "InboundMessage",
    "Match", "MatchMember", "OutStatus", "OutboundMessage", "Outcome", "PairBucket", "Participant", "Purpose", "Quiet",
    "Round",
    "Share", "SitOut", "Status", "Token", "utcnow",
]
