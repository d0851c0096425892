"""Where the weight-free engine's pixels are synthesised: softmax forward splatting of both
frames with hole filling (:mod:`.softsplat`). The network synthesises with its own warping
and GridNet (:mod:`vsanimeinterp.network.animeinterp`, :mod:`vsanimeinterp.network.tiling`).
"""
