"""ergobreak's pictures, drawn by code: no image files are shipped or loaded.

- :mod:`~ergobreak.artwork.shapes`: the vector shapes every picture is made of, and SVG
- :mod:`~ergobreak.artwork.raster`: the anti-aliased rasteriser and PNG (stdlib only)
- :mod:`~ergobreak.artwork.badge`: the badge, i.e. the tray icon per state and the app icon

The tray and the notification icons both draw with it, so it imports only the
standard library: neither of them, nor any desktop library.
"""
