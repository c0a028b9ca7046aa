"""The ``hdf5`` room: a Network as spikemem's own HDF5 file (``spikemem.save_network``)."""

TARGETS = ("target",)
