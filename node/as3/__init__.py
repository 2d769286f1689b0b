"""AS3 (F5's Application Services 3 extension): declarations in, the store's objects out.

Sans-IO: classes.py (our JSON schemas of the classes the lab supports), validate.py (a declaration
-> AS3's 422 errors), desired.py (a tenant's declaration -> the objects it means, in the config
schema's types), plan.py (desired vs the store -> one all-or-nothing ops list), service.py (the
actions, results, tasks and history). The REST shell is node/rest/appsvcs.py.
"""
