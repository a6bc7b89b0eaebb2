"""Datasets for the training bridge: CIFAR-10, STL-10 and scikit-learn's digits, loaded safely.

`load_dataset(name, data_dir)` returns a `Dataset` (uint8 NHWC images or float vectors, int32
labels, per-channel statistics). Files are checked against the publishers' md5s, archives for
unsafe members, and the CIFAR-10 pickles are read with an unpickler that only builds numpy arrays.
"""

from ._archive import Archive as Archive
from ._archive import md5sum as md5sum
from ._cifar import CIFAR10_BINARY as CIFAR10_BINARY
from ._cifar import CIFAR10_CLASSES as CIFAR10_CLASSES
from ._cifar import CIFAR10_FORMATS as CIFAR10_FORMATS
from ._cifar import CIFAR10_MD5 as CIFAR10_MD5
from ._cifar import CIFAR10_PYTHON as CIFAR10_PYTHON
from ._cifar import load_cifar10 as load_cifar10
from ._dataset import DATASETS as DATASETS
from ._dataset import Dataset as Dataset
from ._dataset import channel_stats as channel_stats
from ._digits import load_digits as load_digits
from ._errors import DataError as DataError
from ._errors import UnverifiedDataWarning as UnverifiedDataWarning
from ._load import load_dataset as load_dataset
from ._stl10 import STL10 as STL10
from ._stl10 import STL10_CLASSES as STL10_CLASSES
from ._stl10 import STL10_MD5 as STL10_MD5
from ._stl10 import load_stl10 as load_stl10
from ._stl10 import load_stl10_folds as load_stl10_folds
