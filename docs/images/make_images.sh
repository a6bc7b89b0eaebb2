#!/usr/bin/env bash
# Rebuild README's example figures (docs/images/*.png) from README's own commands, at a small dpi.
# Usage, from the repository root with the package installed: bash docs/images/make_images.sh
# Takes about 5 minutes on 2 CPU cores (the main job, three simulations, one training run, two claims).
set -euo pipefail
OUT=docs/images
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
P="--dpi 80 --format png"

# the main job's phase diagram (README's first command, in a scratch folder)
ssl-dynamics sweep --out "$WORK/sweep.zarr" --no-plot
ssl-dynamics plot "$WORK/sweep.zarr" --group modes --kind outcome $P --out "$WORK"
cp "$WORK/sweep_modes_outcome.png" "$OUT/sweep_modes_outcome.png"

# trajectories of nine modes under a slow EMA
ssl-dynamics simulate --model modes --n1 9 --n2 9 --s0 0.0001,0.0004,0.001,0.004,0.01,0.04,0.1,0.4,1 \
    --p0 0.01,0.02,0.0316,0.0632,0.1,0.2,0.316,0.632,1 --tau0 0 --beta 0.05 --eta 0.02 --t-max 400 --no-plot \
    --out "$WORK/ema9.nc"
ssl-dynamics plot "$WORK/ema9.nc" --kind trajectories --log-time $P --out "$OUT"

# SimSiam's phase portrait at three weight decays
ssl-dynamics simulate --model modes --n1 3 --n2 3 --target online --eta 0.01 --p0 0.005,0.05,0.5 \
    --s0 0.000025,0.0025,0.25 --t-max 300 --no-plot --out "$WORK/simsiam3.nc"
ssl-dynamics plot "$WORK/simsiam3.nc" --kind portrait --eta 0.01,0.05,0.12 $P --out "$OUT"

# mechanism comparison: Euclidean, IsoLoss, cosine, and stop-gradient on the wrong branch
C="--model modes --n1 4 --n2 4 --target online --eta 0 --s0 0.02,0.2,1,3 --predictor power --t-max 300 \
   --save-spacing log --n-save 121 --solver scipy-dop853 --no-plot"
ssl-dynamics simulate $C --out "$WORK/euclid.nc"
ssl-dynamics simulate $C --loss isoloss_euclidean --out "$WORK/iso.nc"
ssl-dynamics simulate $C --loss cosine --expectation mean_field --out "$WORK/cos.nc"
ssl-dynamics simulate $C --stop-gradient online --out "$WORK/wrong.nc" || true   # diverges: exit 1
ssl-dynamics plot "$WORK/euclid.nc" "$WORK/iso.nc" "$WORK/cos.nc" "$WORK/wrong.nc" --kind compare \
    --variable eig_F --variable eig_Wp --name mechanisms $P --out "$OUT"

# a training run of the theory's network (the assumption ladder's first rung), and what the theory predicts for it
ssl-dynamics train --dataset synthetic --input-dim 192 --synthetic-image-size 8 --model linear --feature-dim 8 \
    --method byol --predictor linear --predictor-init identity --predictor-init-scale 0.2 --loss euclidean \
    --momentum 0 --weight-decay 0.02 --lr 0.01 --batch-size 256 --lr-schedule constant --ema-schedule constant \
    --ema-momentum 0.998 --steps 1500 --log-every 50 --no-online-probe --no-linear-probe --quiet --out "$WORK/lin"
ssl-dynamics compare "$WORK/lin" --out "$WORK/cmp"
cp "$WORK/cmp/lin_compare.png" "$OUT/train_compare.png"

# one claim as a numerical experiment
ssl-dynamics check --only tcg21.t17.threshold --figures "$WORK/claims" --report "$WORK/check-report.json"
cp "$WORK/claims/tcg21.t17.threshold.png" "$OUT/claim_t17_threshold.png"
ls -la "$OUT"
