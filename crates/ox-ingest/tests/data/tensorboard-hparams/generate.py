"""Writes run-a/events.out.tfevents.* with TensorBoard's own code (no TensorFlow needed):
an hparams plugin record (summary_v2.hparams_pb, as hp.hparams() writes it) and a `loss`
scalar at steps 0-2. Made with tensorboard 2.21.0:

    python3 -m venv /tmp/tb && /tmp/tb/bin/pip install tensorboard==2.21.0
    /tmp/tb/bin/python generate.py     # in this directory
"""
from tensorboard.compat.proto import event_pb2, summary_pb2
from tensorboard.plugins.hparams import summary_v2 as hp
from tensorboard.summary.writer.event_file_writer import EventFileWriter

writer = EventFileWriter("run-a")
hparams = {"lr": 0.001, "optimizer": "adam", "use_bn": True, "layers": 4}
summary = hp.hparams_pb(hparams, trial_id="run-a", start_time_secs=1795400000)
writer.add_event(event_pb2.Event(wall_time=1795400000.0, step=0, summary=summary))
for step in range(3):
    value = summary_pb2.Summary.Value(tag="loss", simple_value=1.0 / (step + 1))
    event = event_pb2.Event(
        wall_time=1795400001.0 + step, step=step, summary=summary_pb2.Summary(value=[value])
    )
    writer.add_event(event)
writer.close()
