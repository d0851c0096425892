"""The AnimeInterp paper's evaluation protocol on a triplet set in ATD-12K layout.

Frame2 of every triplet is predicted from frames 1 and 3 and scored against the truth with
PSNR, SSIM and IE (:mod:`vsanimeinterp.metrics`), each on the whole frame and on the
annotated motion RoI, on float RGB in [0, 1]; means are taken over triplets, overall and per
difficulty level.

Modules:

* :mod:`.dataset`: finding the triplets (:class:`~.dataset.TripletFiles`) and their
  annotations on disk, loading images;
* :mod:`.annotation`: difficulty levels, and the RoI and level of a generated triplet (what
  ``make-testset`` writes);
* :mod:`.predictors`: frame blending and ``interpolate()`` as predictors;
* :mod:`.protocol`: :func:`~.protocol.evaluate`, the loop;
* :mod:`.report`: summaries, ``results.csv``/``results.json``/``summary.md`` and pictures of
  the worst cases.

The submodules are not imported here, so that importing one stays as cheap as it is.
"""
