"""MAML's meta-step in PyTorch, for comparison: learn2learn's MAML and a plain-PyTorch reference.

Both run the Omniglot network of learn2learn's `OmniglotCNN` (its `ConvBase` without pooling:
3x3 convolutions of stride 2 and padding 1, batch normalization without running statistics,
ReLU; then a mean over space and a linear layer), on the same raw images as `zoo.MAML`, scaled
and inverted the same way, task by task as learn2learn's Omniglot example does.

- `learn2learn_step`: `l2l.algorithms.MAML(model, lr, first_order)`, `clone()` and `adapt()`.
- `reference_step`: the same meta-step in plain PyTorch (`torch.func.functional_call` and
  `torch.autograd.grad`), "PyTorch reference (learn2learn-style)".

PyTorch and learn2learn are optional: `load_torch` and `load_learn2learn_maml` return None with
the reason when they cannot be imported.

learn2learn 0.2.0's package `__init__` imports `learn2learn.vision`, which needs torchvision;
torchvision's wheels for Linux on PyPI are CUDA builds that cannot load against a CPU-only
torch. Its MAML itself needs only torch, so when `import learn2learn` fails for such a reason,
`load_learn2learn_maml` loads `learn2learn.algorithms.maml` (and `learn2learn.utils`) from the
installed package without running the package `__init__`, and says so in its note.

Installing learn2learn 0.2.0 next to a CPU torch: its sdist ships C files made by an old Cython
that do not compile on Python 3.11 (`longintrepr.h`), and its requirements (gym, torchvision,
gsutil, qpth) would pull a CUDA torch and downgrade numpy. So: `pip install "cython<3"`, unpack
the sdist (`pip download --no-deps --no-binary :all: learn2learn==0.2.0`), run
`cython -3 learn2learn/data/*.pyx` in it, then `pip install --no-deps --no-build-isolation .`.
"""

import functools
import importlib
import importlib.util
import os
import sys
import types

EPSILON = 1e-3  # as zoo.BatchStatisticsNormalization; PyTorch's default is 1e-5


def load_torch():
    """`(torch, None)` or `(None, reason)`."""
    try:
        import torch
    except ImportError as error:
        return None, f"not installed ({error})"
    return torch, None


@functools.cache
def load_learn2learn_maml():
    """`(MAML class, note)`, or `(None, reason)` when learn2learn cannot be used."""
    try:
        import learn2learn
    except ImportError as error:
        reason = f"{type(error).__name__}: {error}"
    else:
        return learn2learn.algorithms.MAML, f"learn2learn {learn2learn.__version__}"
    spec = importlib.util.find_spec("learn2learn")
    if spec is None or not spec.submodule_search_locations:
        return None, "not installed"
    # The failed import may have left some submodules behind; start from a clean slate.
    for name in [n for n in sys.modules if n == "learn2learn" or n.startswith("learn2learn.")]:
        del sys.modules[name]
    root = list(spec.submodule_search_locations)[0]
    try:
        for name, path in (("learn2learn", root), ("learn2learn.algorithms", "algorithms")):
            package = types.ModuleType(name)
            package.__path__ = [os.path.join(root, path)]
            sys.modules[name] = package
        maml = importlib.import_module("learn2learn.algorithms.maml")
    except Exception as error:  # noqa: BLE001 - any failure means "unavailable"
        for name in [n for n in sys.modules if n.startswith("learn2learn")]:
            del sys.modules[name]
        return None, f"import failed ({reason}; core modules: {error})"
    version = _installed_version("learn2learn")
    return maml.MAML, (
        f"learn2learn {version}, algorithms.maml loaded without the package __init__ "
        f"(import learn2learn: {reason})"
    )


def _installed_version(name):
    from importlib import metadata

    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "?"


def omniglot_cnn(torch, ways=5, filters=64, blocks=4):
    """learn2learn's `OmniglotCNN` layout, with batch norm keeping no running statistics."""

    class SpatialMean(torch.nn.Module):
        def forward(self, x):
            return x.mean(dim=(2, 3))

    layers, channels = [], 1
    for _ in range(blocks):
        conv = torch.nn.Conv2d(channels, filters, 3, stride=2, padding=1, bias=True)
        torch.nn.init.xavier_uniform_(conv.weight)
        torch.nn.init.zeros_(conv.bias)
        layers += [
            conv,
            torch.nn.BatchNorm2d(filters, eps=EPSILON, track_running_stats=False),
            torch.nn.ReLU(),
        ]
        channels = filters
    layers += [SpatialMean(), torch.nn.Linear(filters, ways)]
    return torch.nn.Sequential(*layers)


def to_torch(torch, batch):
    """A `zoo` meta-batch `(episode dict, query labels)` of numpy arrays as NCHW tensors."""
    episode, query_labels = batch

    def images(array):
        return torch.from_numpy(array).permute(0, 1, 4, 2, 3).contiguous()

    return (
        images(episode["support_images"]),
        torch.from_numpy(episode["support_labels"]).long(),
        images(episode["query_images"]),
        torch.from_numpy(query_labels).long(),
    )


def preprocess(raw):
    return 1.0 - raw / 255.0


def adam_meta_step(torch, model, batch, query_logits):
    """A function running one MAML meta-step (Adam at 1e-3) on `batch` per call.

    Args:
        torch: the imported `torch` module.
        model: the module whose parameters are meta-learned.
        batch: the synthetic meta-batch.
        query_logits: `(support, support_labels, queries) -> logits`, adapting to one task.
    """
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    support, support_labels, queries, query_labels = to_torch(torch, batch)
    loss = torch.nn.functional.cross_entropy
    tasks = support.shape[0]

    def step():
        optimizer.zero_grad()
        for task in range(tasks):
            logits = query_logits(
                preprocess(support[task]), support_labels[task], preprocess(queries[task])
            )
            (loss(logits, query_labels[task]) / tasks).backward()
        optimizer.step()

    return step


def learn2learn_step(torch, maml_class, batch, first_order, inner_steps=1, alpha=0.4, seed=0):
    """A function running one learn2learn MAML meta-step (Adam) on `batch` per call."""
    torch.manual_seed(seed)
    maml = maml_class(omniglot_cnn(torch), lr=alpha, first_order=first_order)
    loss = torch.nn.functional.cross_entropy

    def query_logits(support, support_labels, queries):
        learner = maml.clone()
        for _ in range(inner_steps):
            learner.adapt(loss(learner(support), support_labels))
        return learner(queries)

    return adam_meta_step(torch, maml, batch, query_logits)


def reference_step(torch, batch, first_order, inner_steps=1, alpha=0.4, seed=0):
    """A function running one plain-PyTorch MAML meta-step (Adam) on `batch` per call."""
    from torch.func import functional_call

    torch.manual_seed(seed)
    model = omniglot_cnn(torch)
    loss = torch.nn.functional.cross_entropy

    def query_logits(support, support_labels, queries):
        fast = dict(model.named_parameters())
        for _ in range(inner_steps):
            logits = functional_call(model, fast, (support,))
            gradients = torch.autograd.grad(
                loss(logits, support_labels), list(fast.values()), create_graph=not first_order
            )
            fast = {
                name: weight - alpha * gradient
                for (name, weight), gradient in zip(fast.items(), gradients, strict=True)
            }
        return functional_call(model, fast, (queries,))

    return adam_meta_step(torch, model, batch, query_logits)


def raw_to_input(torch, raw, size=28):
    """Raw `[n, H, W, 1]` numpy pixels as the network's NCHW input, as `zoo` preprocesses them.

    Area resize to `size` (the box filter of `zoo.preprocessing`), then `1 - x / 255`.
    """
    images = torch.from_numpy(raw).permute(0, 3, 1, 2).contiguous()
    images = torch.nn.functional.interpolate(images, size=(size, size), mode="area")
    return preprocess(images)


def learn2learn_adaptation(torch, maml_class, queries, steps=3, alpha=0.4, seed=0):
    """`(support images, labels) -> query probabilities`: learn2learn's MAML on a new task.

    As a learn2learn user adapts at test time: `clone()` the meta-learned model (second-order
    MAML, as meta-trained), `steps` calls of `adapt` on the support loss, then a softmax over
    the `queries` (raw images, preprocessed on every call as `zoo` does) without gradients.
    """
    torch.manual_seed(seed)
    maml = maml_class(omniglot_cnn(torch), lr=alpha, first_order=False)
    loss = torch.nn.functional.cross_entropy

    def adapt(support, labels):
        learner = maml.clone()
        images, targets = raw_to_input(torch, support), torch.from_numpy(labels).long()
        for _ in range(steps):
            learner.adapt(loss(learner(images), targets))
        with torch.no_grad():
            return torch.softmax(learner(raw_to_input(torch, queries)), dim=-1).numpy()

    return adapt


def reference_adaptation(torch, queries, steps=3, alpha=0.4, seed=0):
    """The same adaptation in plain PyTorch (`torch.func.functional_call`, first-order steps)."""
    from torch.func import functional_call

    torch.manual_seed(seed)
    model = omniglot_cnn(torch)
    loss = torch.nn.functional.cross_entropy

    def adapt(support, labels):
        images, targets = raw_to_input(torch, support), torch.from_numpy(labels).long()
        fast = dict(model.named_parameters())
        for _ in range(steps):
            logits = functional_call(model, fast, (images,))
            gradients = torch.autograd.grad(loss(logits, targets), list(fast.values()))
            fast = {
                key: weight - alpha * gradient
                for (key, weight), gradient in zip(fast.items(), gradients, strict=True)
            }
        with torch.no_grad():
            logits = functional_call(model, fast, (raw_to_input(torch, queries),))
            return torch.softmax(logits, dim=-1).numpy()

    return adapt
