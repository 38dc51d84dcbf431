"""``pspnet-r50-8``: the paper's §4.4 zoo, eight PSPNet-R50 models on eight sources.

mmseg PSPNet with ResNetV1c-50 (``pspnet_r50-d8``: width 64, bottleneck 512). Public mmseg
checkpoints (listed in mmseg 1.2.2's ``configs/pspnet/metafile.yaml``) exist for three of the
sources and are used as ``url:`` weights (downloaded only with ``--allow-download``):
ADE20K (80k iterations), VOC 2012 + SBD "aug" (40k), and COCO-Stuff-164k (80k; COCO images with
171 stuff+thing classes, not the 21-class COCO subset the paper's benchmark code uses). mmseg
publishes no PSPNet for VOC 2012 alone, SBU Shadow, LIP, KITTI or CamVid: those five are
pre-trained by facebench from mmseg's ImageNet ResNetV1c-50 backbone (the
``init_cfg`` of its PSPNet configs) on the user's copy of the dataset
(:mod:`..datasets.paper`), with the paper's recipe (SGD lr 1e-4, momentum 0.9, warm-up + poly,
60 epochs, batch 8; images resized to 512x512, mmseg's usual crop size, as the paper states none).
The target is Cityscapes (``configs/paper/segmentation.yaml``).
"""
from __future__ import annotations

from ...base import ModelSpec, PretrainSpec, Zoo

R50 = {"depth": 50, "base_channels": 64, "channels": 512}
MMSEG = "url:https://download.openmmlab.com/mmsegmentation/v0.5/pspnet/"
PUBLIC = {
    "ade20k": MMSEG + "pspnet_r50-d8_512x512_80k_ade20k/pspnet_r50-d8_512x512_80k_ade20k_20200615_014128-15a8b914.pth",
    "voc-aug": MMSEG + "pspnet_r50-d8_512x512_40k_voc12aug/pspnet_r50-d8_512x512_40k_voc12aug_20200613_161222-ae9c1b8c.pth",
    "coco": MMSEG + "pspnet_r50-d8_512x512_4x4_80k_coco-stuff164k/"
                    "pspnet_r50-d8_512x512_4x4_80k_coco-stuff164k_20210707_152034-0e41b2db.pth",
}
#: Single-scale mIoU that mmseg 1.2.2's ``configs/pspnet/metafile.yaml`` publishes for those three
#: checkpoints (ADE20K 41.13, VOC aug 77.29, COCO-Stuff-164k 38.8 %): ``source_accuracy`` of the
#: data-free control ``control-source-accuracy`` (facebench.metrics.controls).
PUBLIC_MIOU = {"ade20k": 0.4113, "voc-aug": 0.7729, "coco": 0.388}
IMAGENET_R50 = "url:https://download.openmmlab.com/pretrain/third_party/resnet50_v1c-2cccc1ad.pth"  # mmseg's init
SOURCES = ("ade20k", "voc2012", "voc-aug", "sbu-shadow", "coco", "lip", "kitti", "camvid")


def _model(source: str) -> ModelSpec:
    if source in PUBLIC:
        return ModelSpec(f"pspnet-r50-{source}", "pspnet", PUBLIC[source], options=R50, source_accuracy=PUBLIC_MIOU[source])
    recipe = PretrainSpec(source=source, loss="ce", epochs=60, lr=1e-4, batch_size=8, options={"seed": 0, "image_size": [512, 512]})
    return ModelSpec(f"pspnet-r50-{source}", "pspnet", IMAGENET_R50, pretrain=recipe, options=R50)


ZOO = Zoo(
    name="pspnet-r50-8",
    summary="the paper's 8 PSPNet-R50 (ADE20K, VOC, VOC aug, SBU, COCO, LIP, KITTI, CamVid); 3 public mmseg checkpoints",
    task="segmentation",
    models=tuple(_model(s) for s in SOURCES),
    offline=False,
)
