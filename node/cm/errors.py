"""The error a cm command raises (tmsh `run cm ...`, `run sys failover ...`), with F5's text."""


class CMError(Exception):
    pass
