"""A tabular MLP: embeddings for categorical columns, standardised numeric inputs."""

from __future__ import annotations


def build_model(n_numeric: int, cardinalities: list[int], embedding_dim: int, hidden: list[int], dropout: float):
    import torch
    from torch import nn

    class TabularMLP(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embeddings = nn.ModuleList(nn.Embedding(card, embedding_dim) for card in cardinalities)
            layers: list[nn.Module] = []
            width = n_numeric + embedding_dim * len(cardinalities)
            for h in hidden:
                layers += [nn.Linear(width, h), nn.ReLU(), nn.Dropout(dropout)]
                width = h
            layers.append(nn.Linear(width, 1))
            self.mlp = nn.Sequential(*layers)

        def forward(self, x_num: torch.Tensor, x_cat: torch.Tensor) -> torch.Tensor:
            parts = [x_num] + [emb(x_cat[:, i]) for i, emb in enumerate(self.embeddings)]
            return self.mlp(torch.cat(parts, dim=1)).squeeze(1)

    return TabularMLP()
