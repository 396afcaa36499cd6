"""Load a safetrain model export and predict in target units, with torch alone.

An export is the one file `export_weights --checkpoint RUN_DIR/checkpoints/best --output model.pt` writes:
a dictionary of plain values that torch.load(path, weights_only=True) opens (see
src/infer/include/safetrain/infer/model_export.hpp): the weights, the architecture, the feature names in
input order, the target names, the scaling and the NaN policy of the run.

    import pandas, safetrain_model
    model = safetrain_model.load("model.pt")
    predictions = model.predict(pandas.read_csv("table.csv"))  # DataFrame: one column per target

`predict` takes a pandas DataFrame (columns picked by name, in any order, extra columns ignored), a
mapping of column name -> values, or a 2-D NumPy array / torch tensor whose columns are already in
`model.feature_names` order. The modules are those of src/models (mlp.cpp, transformer.cpp), so
`model.module` is an ordinary torch.nn.Module with the same state_dict names as the C++ model.
"""

import torch
from torch import nn

FORMAT = "safetrain-model"
FORMAT_VERSION = 1


def _mlp(spec):
    # Linear at even indices with a parameter-free ReLU between, as src/models/mlp.cpp registers them;
    # dropout is applied functionally there and is the identity in eval mode.
    layers, width = [], spec["input_features"]
    for _ in range(spec["mlp_layers"]):
        layers += [nn.Linear(width, spec["hidden"]), nn.ReLU()]
        width = spec["hidden"]
    layers.append(nn.Linear(width, spec["outputs"]))
    return nn.Sequential(*layers)


class Transformer(nn.Module):
    """src/models/transformer.cpp: tokens of token_width features, a learned position per token, a post-norm
    ReLU encoder in LibTorch's [tokens, batch, d_model] layout, the mean over tokens, a linear head."""

    def __init__(self, spec):
        super().__init__()
        if spec["activation"] != "relu" or spec["norm_first"] or spec["pooling"] != "mean":
            raise ValueError(f"unsupported transformer variant in the export: {spec}")
        self.tokens, self.width = spec["tokens"], spec["token_width"]
        self.embed = nn.Linear(self.width, spec["d_model"])
        self.position = nn.Parameter(torch.zeros(self.tokens, spec["d_model"]))
        layer = nn.TransformerEncoderLayer(spec["d_model"], spec["num_heads"], spec["dim_feedforward"],
                                           spec["dropout"], activation="relu", layer_norm_eps=spec["layer_norm_eps"],
                                           batch_first=False, norm_first=False)
        self.encoder = nn.TransformerEncoder(layer, spec["num_layers"], enable_nested_tensor=False)
        self.head = nn.Linear(spec["d_model"], spec["outputs"])

    def forward(self, x):
        tokens = self.embed(x.reshape(x.shape[0], self.tokens, self.width)) + self.position
        return self.head(self.encoder(tokens.transpose(0, 1)).mean(dim=0))


def build_module(spec):
    """The torch.nn.Module an export's "model" entry describes (weights not loaded)."""
    if spec["type"] == "mlp":
        if spec["activation"] != "relu":
            raise ValueError(f"unsupported MLP activation in the export: {spec['activation']}")
        return _mlp(spec)
    if spec["type"] == "transformer":
        return Transformer(spec)
    raise ValueError(f"unknown model type in the export: {spec['type']!r}")


class SafetrainModel:
    """A loaded export: `module` (eval mode, CPU), `feature_names`, `target_names`, `scaling`, `nan_policy`."""

    def __init__(self, export):
        if export.get("format") != FORMAT or export.get("format_version") != FORMAT_VERSION:
            raise ValueError(f"not a {FORMAT} v{FORMAT_VERSION} export: format {export.get('format')!r} "
                             f"version {export.get('format_version')!r}")
        self.spec = export["model"]
        self.feature_names = list(export["feature_names"])
        self.target_names = list(export["target_names"])
        self.scaling = {k: v.to(torch.float32) for k, v in export["scaling"].items()}
        self.nan_policy = export["nan_policy"]
        self.module = build_module(self.spec)
        self.module.load_state_dict(export["state_dict"], strict=True)
        self.module.eval()

    def _features(self, table):
        """[rows, features] float32 in feature_names order, and whether the input was a DataFrame."""
        if hasattr(table, "columns") and hasattr(table, "index"):  # a pandas DataFrame
            missing = [n for n in self.feature_names if n not in table.columns]
            if missing:
                raise KeyError(f"{len(missing)} feature column(s) missing from the table: {missing[:5]}")
            return torch.as_tensor(table[self.feature_names].to_numpy(dtype="float32")), True
        if isinstance(table, dict):
            return torch.stack([torch.as_tensor(table[n], dtype=torch.float32) for n in self.feature_names], 1), False
        x = torch.as_tensor(table, dtype=torch.float32)
        if x.dim() != 2 or x.shape[1] != len(self.feature_names):
            raise ValueError(f"expected [rows, {len(self.feature_names)}] features in feature_names order, "
                             f"got shape {tuple(x.shape)}")
        return x, False

    def _apply_nan_policy(self, x):
        """The rows to score and their features, as C++ predict does under the run's data.nan_policy."""
        missing = torch.isnan(x)
        keep = torch.arange(x.shape[0])
        if not bool(missing.any()):
            return x, keep
        if self.nan_policy == "fill_mean":
            return torch.where(missing, self.scaling["feature_mean"].expand_as(x), x), keep
        if self.nan_policy == "drop_rows":
            keep = torch.nonzero(~missing.any(1)).flatten()
            return x.index_select(0, keep), keep
        worst = int(missing.sum(0).argmax())
        raise ValueError(f"column '{self.feature_names[worst]}' has {int(missing.sum(0)[worst])} missing values "
                         f"(the model was trained with data.nan_policy: {self.nan_policy})")

    @torch.no_grad()
    def predict_tensor(self, features, batch_rows=4096):
        """Raw features [rows, features] (float32, no NaN) -> predictions [rows, targets] in target units."""
        s = self.scaling
        x = (features - s["feature_mean"]) / s["feature_std"]
        parts = [self.module(x[i:i + batch_rows]) for i in range(0, x.shape[0], batch_rows)]
        out = torch.cat(parts) if parts else torch.zeros(0, len(self.target_names))
        return out * s["target_std"] + s["target_mean"]

    def predict(self, table, batch_rows=4096):
        """Predictions in target units: a DataFrame (columns = target_names, the input's index of the scored
        rows) for a DataFrame, else a tensor. Under nan_policy drop_rows rows with a missing feature are left
        out (the DataFrame's index says which remain)."""
        x, is_frame = self._features(table)
        x, keep = self._apply_nan_policy(x)
        y = self.predict_tensor(x, batch_rows)
        if not is_frame:
            return y
        import pandas  # only when the input is a DataFrame
        return pandas.DataFrame(y.numpy(), columns=self.target_names, index=table.index[keep.numpy()])


def load(path):
    """Opens an export written by export_weights (weights_only: no code in the file is run)."""
    return SafetrainModel(torch.load(path, map_location="cpu", weights_only=True))
