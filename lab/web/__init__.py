"""`biglab web`: the lab in a browser (app.py), fed by one reader a lab (feed.py), drawn from a
sans-IO model (view.py, gtm.py)."""
