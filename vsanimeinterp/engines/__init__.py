"""The engines: per-frame, per-pair and per-t work behind the filter (:mod:`.base`), the
weight-free SGM engine (:mod:`.sgm`), the paper's network (:mod:`.network`) and the factory
(:mod:`.factory`)."""
