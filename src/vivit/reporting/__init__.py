"""Reporting: one offline HTML page per run (`vivit report RUN_DIR`).

predictions: batched inference over a split and the choice of samples to show;
metrics: ROC curves and per-class precision/recall from predictions;
attention_maps: where the pooled representation looks, mapped back onto the input;
gifs: animated, captioned GIFs of volumes and videos (optionally with a heat overlay);
plots: training curves, confusion matrix and ROC curves as PNG;
html: the page itself; build: all of it for one run directory.
"""
