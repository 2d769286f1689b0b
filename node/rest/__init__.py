"""iControl REST: routes generated from the schema, commands, transactions, auth."""
