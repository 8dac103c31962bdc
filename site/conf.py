"""Sphinx configuration of the course website (built by ``python -m course_tools.site``, not by hand).

The build copies this file next to the executed lessons and runs Sphinx with MyST-NB. Nothing may
load from the network, at build time or when a reader opens a page: the theme's assets are
bundled with it, MathJax comes from ``slides/node_modules`` (copied into ``_static/mathjax``), and
widgets show their static fallbacks instead of loading ipywidgets' JavaScript from a CDN.
"""

project = "Autoencoders, hands-on"
author = "The course authors"
html_title = "Autoencoders, hands-on"

extensions = ["myst_nb"]
myst_enable_extensions = ["dollarmath", "amsmath"]  # the lessons write math as $...$ and $$...$$
exclude_patterns = ["_build", "**.ipynb_checkpoints", "downloads"]

# The lessons were executed by course_tools.site (papermill-free, one fresh kernel each): never rerun them.
nb_execution_mode = "off"
# Each widget is preceded by a static fallback (course_utils.display); a live widget view would need
# ipywidgets' JavaScript from a CDN, so it is never rendered and no widget script is added.
nb_ipywidgets_js = {}
nb_mime_priority_overrides = [("html", "application/vnd.jupyter.widget-view+json", None)]
nb_merge_streams = True

# MathJax 2 from the npm copy the decks use, relative to html_static_path. MyST-NB marks the page
# "ignore" and each formula "math" (MathJax 3 names); the same rule, written for MathJax 2:
mathjax_path = "mathjax/MathJax.js?config=TeX-AMS_CHTML-full"
myst_update_mathjax = False
mathjax2_config = {
    "tex2jax": {
        "inlineMath": [["\\(", "\\)"]],
        "displayMath": [["\\[", "\\]"]],
        "processClass": "tex2jax_process|mathjax_process|math|output_area",
        "ignoreClass": "tex2jax_ignore|mathjax_ignore",
    },
}
html_static_path = ["_static"]

html_theme = "sphinx_book_theme"
html_theme_options = {
    "use_download_button": False,  # each lesson page links its clean notebook instead (outputs cleared)
    "use_fullscreen_button": False,
    "show_toc_level": 2,
    "navigation_with_keys": False,
}
html_show_sourcelink = False
html_last_updated_fmt = "%Y-%m-%d"
