"""A console log with a resolved config as torchtune prints it, for ox's text importer (issue 10).

torchtune's recipes call `config.log_config(recipe_name, cfg)`, which logs
`f"Running {recipe_name} with resolved config:\n\n{OmegaConf.to_yaml(cfg)}"` through Python's
logging (format `%(levelname)s:%(name)s:%(message)s`), see ../../../torchtune/FORMAT.md.
Here the YAML is dumped by the real OmegaConf (2.4.0) from a config with lists, quoted strings and
nested maps (a LoRA recipe's), followed by two DiskLogger-style step lines.
Run from this directory: writes ../../torchtune/lora-console.log.
"""
import logging

from omegaconf import OmegaConf

cfg = OmegaConf.create({
    "batch_size": 4,
    "model": {
        "_component_": "torchtune.models.llama3_2.lora_llama3_2_1b",
        "lora_attn_modules": ["q_proj", "v_proj", "output_proj"],
        "apply_lora_to_mlp": True,
        "lora_rank": 8,
        "lora_alpha": 16,
    },
    "optimizer": {"_component_": "torch.optim.AdamW", "lr": 0.0003, "betas": [0.9, 0.999]},
    "tokenizer": {"path": "/tmp/Llama-3.2-1B-Instruct/original/tokenizer.model",
                  "prompt_template": "null", "special": "yes: really"},
    "seed": None,
})
out = "../../torchtune/lora-console.log"
logging.basicConfig(filename=out, filemode="w", level=logging.INFO,
                    format="%(levelname)s:%(name)s:%(message)s")
log = logging.getLogger("torchtune.utils._logging")
log.info(f"Running LoRAFinetuneRecipeSingleDevice with resolved config:\n\n{OmegaConf.to_yaml(cfg)}")
with open(out, "a") as f:
    f.write("Step 1 | loss:2.5 lr:0.0003\nStep 2 | loss:2.25 lr:0.0003\n")
