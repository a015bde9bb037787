"""The command line's help texts (``python -m isingviz [COMMAND] --help``): what each command does, with an
example."""

DESCRIPTION = """\
Reconstruct which spins of a kinetic Ising model are coupled from one trajectory of their momenta.

workflow (train's defaults are the paper's setting: L=12, 25 edges, 10 lattices, 25,000 instances):
  isingviz simulate --L 12 --edges 25 --n 100 --T 0.4 --out inst.npz
  isingviz train --T 0.1 --epochs 20 --out pre.safetensors
  isingviz train --init pre.safetensors --T 50 --out fine.safetensors
  isingviz evaluate fine.safetensors --out results.json
  isingviz predict fine.safetensors --instance inst.npz --index 3
  isingviz train-general --steps 1800 --out general.safetensors   # one model for unseen lattices, any L
Each command prints one JSON line on stdout (pipe it to `python -m json.tool` to read it)."""

SIMULATE_HELP = """\
Simulate instances (trajectories of the momenta, Eq. 1 of arXiv:2208.04119) and save them as .npz.
The lattice comes from --lattice FILE.json or a generator (--family, --L, --edges/--p/--k, --lattice-seed);
the --n instances start from distinct initial states. Writes X (B, L, M), s0 (B, L), A (L, L), T, tau, M.
example: isingviz simulate --family random --L 12 --edges 25 --n 500 --T 0.4 --out inst.npz"""

TRAIN_HELP = """\
Build a dataset (train / test / generalization splits), train the CNN and save it as .safetensors.
Settings are layered: built-in defaults < the base model's dataset (--init) < --config FILE.json
< flags given explicitly. The config file may hold {"dataset": {DatasetSpec fields}, "model": {ModelConfig
fields}, "train": {TrainConfig fields}}; the network's L, M and tau always follow the dataset.
Fine-tuning (--init): the base model's architecture is kept (its --encoding may change) and its training
lattices are reused unless --new-lattices, as in the paper: pre-train at T=0.1, fine-tune at high T.
Ctrl-C stops after the current batch and still saves the best model so far.
examples: isingviz train --L 12 --edges 25 --lattices 10 --n-train 25000 --T 0.4 --epochs 20 --out m.safetensors
          isingviz train --init m.safetensors --T 50 --n-train 10000 --out m50.safetensors"""

EVALUATE_HELP = """\
Evaluate a model on freshly simulated instances of its own lattices and of unseen ones.
CNN: the test split uses the model's training lattices with initial states never used in training; the
generalization split uses new lattices of the same family. Prints accuracy next to the trivial "no edge"
guess, entropies and the coverage/accuracy curve (the paper's Fig. 2b) as JSON.
General model (arch general, any L): --n unseen lattices of --family at --L, --T, --noise, one instance each
(tau 0.1, M 50); prints its accuracy beside the physics inversion and the trivial guess on the same instances,
ms per instance, and the coverage and accuracy of its confident pairs (entropy S < 0.1).
examples: isingviz evaluate m.safetensors --n-test 3000 --n-general 3000 --T 0.4 --out results.json
          isingviz evaluate models/general.safetensors --L 16 --T 5 --noise 1e-3 --n 50"""

TRAIN_GENERAL_HELP = """\
Train the general model (any L and M, lattices never seen in training; docs/general.md) and save it.
Every batch is new: fresh lattices of every family, L 8-32, T log-uniform in 0.3-60, half of the instances with
observation noise (isingviz.learn.general.train.GeneralTrainConfig; change any field with --set KEY=VALUE). The
learning rate rises to --lr over the first tenth of --steps, then decays to 0 along a cosine; every
max(10, steps // 20) steps the held-out accuracy (unseen L = 12 lattices) is recorded, and the best record's
weights are saved. Same --seed and --threads on one machine: the same weights. Ctrl-C, --stop-after-steps and
--max-seconds stop early and still save the best model so far; the file's notes give the command that repeats it.
examples (the shipped models/general.safetensors: two stages, about 10 minutes on 2 cores):
  isingviz train-general --steps 1800 --threads 2 --seed 0 --stop-after-steps 682 --out stage1.safetensors
  isingviz train-general --steps 450 --threads 1 --seed 2 --lr 5e-4 --init stage1.safetensors --out g.safetensors
  isingviz train-general --steps 200 --set L_max=16 --set noise_fraction=0 --out small.safetensors"""

PREDICT_HELP = """\
Predict every spin pair of one instance: p(edge), entropy, prediction and, given the lattice, the truth.
The instance is simulated on --lattice with the model's T, tau and M from --s0 or --s0-seed, or read from
--instance (an .npz from simulate; its stored lattice is the truth unless --lattice is given).
examples: isingviz predict m.safetensors --lattice lat.json --s0-seed 7
          isingviz predict m.safetensors --instance inst.npz --index 3"""

SWEEP_HELP = """\
Run one of the paper's figure sweeps (or the method comparison) as independent tasks in parallel processes and
write results/NAME[_quick].json (exact configs, seeds, versions, wall times, capped sizes) and .csv.
Every accuracy is stored beside the trivial "no edge" guess and the best non-learned method on the same instances.
example: isingviz sweep fig2a --quick --workers 2
sweeps:"""

TRAIN_HEAD_HELP = """\
Give a general model its confidence head: a small per-pair network, fitted with the general network frozen on fresh
lattices of every family (sparse to complete, empty), mean-field data with and without noise and heat-bath data
averaged over R = 1 to 1000 replicas (read beside the replica decoder). It corrects the network's confidence where
an instance carries little information, so that a wrong answer is an uncertain one. --set takes HeadTrainConfig
fields (n_instances, steps, stochastic_fraction, replicas_max, ...).
example (the shipped models/general.safetensors):
  isingviz train-head general_net.safetensors --threads 2 --out general.safetensors"""
