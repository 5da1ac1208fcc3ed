"""ergobreak's pictures, drawn by code: no image files are shipped or loaded.

- :mod:`~ergobreak.artwork.shapes`: the vector shapes every picture is made of, and SVG
- :mod:`~ergobreak.artwork.raster`: the anti-aliased rasteriser and PNG (stdlib only)
- :mod:`~ergobreak.artwork.badge`: the badge, i.e. the tray icon per state and the app icon
- :mod:`~ergobreak.artwork.pose`, :mod:`~ergobreak.artwork.figure`: the drill figure, posed
  by joint angles (``poses.toml``), drawn as shapes; :mod:`~ergobreak.artwork.form`
  checks each pose's form on its joints

The tray and the notification icons both draw with it, so it imports only the
standard library (and, for the poses, the TOML reader of ``ergobreak.tomlfile``):
neither of them, nor any desktop library.
"""
