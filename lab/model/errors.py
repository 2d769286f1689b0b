"""The error every lab operation raises when it cannot do what was asked."""


class LabError(Exception):
    """An operation on a lab failed; the message says why and what to do."""
