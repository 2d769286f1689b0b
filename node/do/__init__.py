"""Declarative Onboarding (F5's DO): one declaration a device, the Common tenant only.

Sans-IO: classes.py (our JSON schemas of the classes the lab supports), plan.py (a declaration ->
the local commit, the trust step and the device-group step for this device). The REST shell,
which does the steps (trust over 4353, waiting for peers, the first sync), is
node/rest/onboarding.py.
"""
