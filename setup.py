from setuptools import find_packages, setup

setup(
    name="metazoo",
    version="0.1.0",
    description="A Keras 3 model zoo of meta-learners: trained presets, adapt, fit, export.",
    long_description=open("README.md").read(),
    long_description_content_type="text/markdown",
    python_requires=">=3.10",
    packages=find_packages(
        include=[
            "zoo",
            "zoo.*",
            "training",
            "training.*",
            "export",
            "export.*",
            "pretrained",
            "pretrained.*",
            "metazoo",
            "metazoo.*",
        ]
    ),
    package_data={"pretrained": ["*/*.json", "*/*.h5"]},
    include_package_data=True,
    install_requires=[
        "tensorflow>=2.21,<2.22",
        "keras>=3.10,<4",
        "tf2onnx>=1.17,<1.18",
        "onnx>=1.17,<2",
        "onnxruntime>=1.20,<2",
        "tensorflow-datasets>=4.9,<5",
        "numpy>=1.26,<3",
        "pillow>=10.1,<14",
        # `metazoo train` writes TensorBoard logs and draws its learning curve.
        "tensorboard>=2.21,<2.22",
        "matplotlib>=3.8,<4",
    ],
    extras_require={
        "test": ["pytest>=8,<10", "pytest-xdist>=3.5,<4", "ruff>=0.6"],
        # `python -m benchmarks` compares with PyTorch when it is installed. learn2learn is
        # not listed: its 0.2.0 sdist does not build on Python 3.11 and its requirements pull
        # a CUDA torch and torchvision; see benchmarks/torch_maml.py.
        "bench": ["torch>=2.13,<2.14"],
    },
    entry_points={"console_scripts": ["metazoo=metazoo.cli:main"]},
)
