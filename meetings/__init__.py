"""Meetings (issue 16): when and how people can meet, the options an introduction offers, its host and
starter, the booking made from them, and the invitations that carry it."""
