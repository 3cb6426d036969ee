"""Meetings (issue 16): the options a group is offered, its booking, and the invitations that carry it."""
