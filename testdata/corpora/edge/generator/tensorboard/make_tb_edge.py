"""TensorBoard event files for ox's importer edge cases (issue 10).

`tf_summary_write/`: rank-0 tensors written with TF2's generic `tf.summary.write` (no
`scalars` plugin metadata), in float32 (`loss32`) and float64 (`loss64`), plus one
`tf.summary.scalar` (`acc`) for comparison. Values: loss32 = loss64 = 2 * 0.9**step,
acc = 0.5 + 0.05 * step, steps 0..9.

`torn_first_record/`: the same writer's output in a directory that also holds a second event
file torn before its first record: its first 10 bytes (a record header cut short), what a
writer killed while writing its first record leaves (made by `make_tb_edge.sh` with `head`).
"""
import sys

import tensorflow as tf

out = sys.argv[1]
writer = tf.summary.create_file_writer(out)
with writer.as_default():
    for step in range(10):
        v = 2 * 0.9 ** step
        tf.summary.write("loss32", tf.constant(v, dtype=tf.float32), step=step)
        tf.summary.write("loss64", tf.constant(v, dtype=tf.float64), step=step)
        tf.summary.scalar("acc", 0.5 + 0.05 * step, step=step)
writer.close()
