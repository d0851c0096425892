"""SGM's tuned constants in one place (pixels at the 960×540 working resolution unless said).

The reference values come from the AnimeInterp code; the others were chosen on generated
cartoons and real animation (README, "How good, how fast").
"""

from __future__ import annotations

import cv2

WORK_PIXELS = 960 * 540  # default working area, as in the paper
MIN_PIECE_AREA = 50  # reference: smaller pieces are not trusted for guided flow
MAX_PIECE_FRACTION = 0.12  # reference: larger pieces (backgrounds) keep the dense flow
MAX_AREA_RATIO = 3.0
MAX_JUMP_960 = 250.0  # reference's jump limit in pixels at 960×540
MIN_UNION_RATE = 0.8
DENSE_PRESET = cv2.DISOPTICAL_FLOW_PRESET_FAST
PATCH_PRESET = cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST
#: OpenCV's DIS (5.0, as installed) refuses small images (11×11, 4×3000: "incorrect size of
#: input array"), and on images under 32 pixels tall that are wide enough it fails or
#: crashes the process, depending on the aspect ratio (64×12: segmentation fault; 1000×16,
#: 3000×31: a resize assertion). Every size tried with 32 or more per side works (32×32 up
#: to 40000×32 and 32×40000), so smaller images are padded to this.
DIS_MIN_SIDE = 32
REFINE_STEPS = (4,)
ATLAS_GAP = 16  # black pixels between patches in the atlas, beyond each patch's own margin
AFFINE_NORM = 100.0  # pixels per unit of the centred coordinates in the affine fits
AFFINE_DAMP = 0.01  # ridge on the linear terms: small or thin pieces fall back to translation
DENSE_HANDICAP = 1.15  # factor on the dense candidate's error in the per-piece choice
GLOBAL_RANGE = 200  # largest camera pan searched, pixels
PAN_MARGIN = 0.75  # a large piece takes its own affine motion below this × the pan's error
BACKGROUND_FRACTION = 0.05  # pieces above this share of the frame vote for the camera motion
# Far matching, the second pass over pieces the first left unmatched (see flows.py).
FAR_POSITION_SCALE = 0.5  # its position prior, fractions of the diagonal (first pass: 0.04)
FAR_MIN_MARGIN = 0.9  # affinity margin over any rival: repeated pieces never match far
# nor go in front as movers
FAR_MIN_ERROR = 8.0  # taken only where the dense flow's motions err this much (8-bit luma)
FAR_GAIN = 0.5  # and where the match has at most this × their error
MOVER_MOTION = 4.0  # pixels against the pan from which a matched piece is a mover
MOVER_LOOP = 2.0  # pixels: forward-backward loop error within which a mover's pixel holds
# and, for fast movers, that share of the summed squared lengths of the two flows: the
# forward-backward test of Sundaram et al. (ECCV 2010), since flow errors grow with motion
MOVER_LOOP_REL = 0.01
MOVER_SOLID = 0.85  # share of a mover's pixels that must hold
# Pieces that move together (objects.py).
OBJECT_MOTION = 1.0  # pixels against the pan from which touching pieces form an object
OBJECT_GAIN = 1.5  # a piece takes its object's motion unless its own errs under 1/this of it
OBJECT_DAMP = 0.001  # ridge of the object's affine fit (pieces alone: AFFINE_DAMP)
ADOPT_ROUNDS = 4  # how many pieces away from a mover its motion may travel
ADOPT_TRIES = 5  # a piece tries the motions of this many touching pieces at most
ADOPT_GAIN = 0.9  # and takes one that brings its photometric error under this × its own
ADOPT_SEARCH = 1.0  # pixels: each motion on offer is also tried shifted this far (8 ways)
