"""PyTorch reference modules for the zoo networks torchvision does not ship.

LeNet-5 follows the seed survey's code (sigmoid activations); NIN follows the
mlpconv design of the seed lineage. Both name their children `features` and
`classifier` like dsl/models/lenet.nn and dsl/models/nin.nn. FashionResNet is
resnet.nn's resnet_fashion, built from torchvision's BasicBlock.
"""
import torch
from torch import nn
from torchvision.models.resnet import BasicBlock


class LeNet5(nn.Module):
    def __init__(self, classes=10):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 6, 5), nn.Sigmoid(), nn.MaxPool2d(2, 2),
            nn.Conv2d(6, 16, 5), nn.Sigmoid(), nn.MaxPool2d(2, 2))
        self.classifier = nn.Sequential(
            nn.Linear(16 * 4 * 4, 120), nn.Sigmoid(),
            nn.Linear(120, 84), nn.Sigmoid(),
            nn.Linear(84, classes))

    def forward(self, x):
        return self.classifier(torch.flatten(self.features(x), 1))


def nin_block(cin, cout, k, stride=1, pad=0):
    return nn.Sequential(
        nn.Conv2d(cin, cout, k, stride, pad), nn.ReLU(),
        nn.Conv2d(cout, cout, 1), nn.ReLU(),
        nn.Conv2d(cout, cout, 1), nn.ReLU())


class NIN(nn.Module):
    def __init__(self, classes=10, channels=1, drop=0.5):
        super().__init__()
        self.features = nn.Sequential(
            nin_block(channels, 96, 11, stride=4), nn.MaxPool2d(3, 2),
            nin_block(96, 256, 5, pad=2), nn.MaxPool2d(3, 2),
            nin_block(256, 384, 3, pad=1), nn.MaxPool2d(3, 2),
            nn.Dropout(drop))
        self.classifier = nn.Sequential(
            nin_block(384, classes, 3, pad=1),
            nn.AdaptiveAvgPool2d((1, 1)), nn.Flatten(1))

    def forward(self, x):
        return self.classifier(self.features(x))


class FashionResNet(nn.Module):
    """A narrow ResNet for 28x28 single-channel images: a 3x3 stem, three
    stages of two BasicBlocks at widths w, 2w, 4w (torchvision's blocks and
    names), global average pool, linear."""

    def __init__(self, w=16, classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(1, w, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(w)
        self.relu = nn.ReLU(inplace=True)
        cin = w
        for s in range(3):
            cout, stride = w << s, 2 if s > 0 else 1
            down = None
            if stride != 1 or cin != cout:
                down = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False),
                                     nn.BatchNorm2d(cout))
            setattr(self, f'layer{s + 1}',
                    nn.Sequential(BasicBlock(cin, cout, stride, down), BasicBlock(cout, cout)))
            cin = cout
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(cin, classes)

    def forward(self, x):
        x = self.relu(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        return self.fc(torch.flatten(self.avgpool(x), 1))
