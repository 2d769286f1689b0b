"""The one configuration object model: schema (declarations), store (commits), tmsh (text)."""
