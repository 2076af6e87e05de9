"""yce: the YouCam Online Editor AI APIs from the command line and from Python."""

__version__ = "0.1.0"
