"""Writes moto's AMI catalogue plus the Ubuntu 22.04 (jammy) images the Omniops stack uses.

moto's default catalogue has no jammy image; MOTO_AMIS_PATH replaces the catalogue, so this
writes the default one with ours added. The ids are those of Canonical's us-east-1 images
that stacks/omniops names, so the same stack runs against AWS and against moto.

Usage: python moto-amis.py OUT.json   (run with the venv that has moto)
"""

import gzip
import json
import os
import sys

import moto

JAMMY = [
    # (id, architecture, build date)
    ("ami-0c7217cdde317cfec", "x86_64", "20240111"),
    ("ami-0e2c8caa4b6378d8c", "x86_64", "20241002"),
    ("ami-05d47d29a4c2d19e1", "arm64", "20241002"),
]


def main(out):
    base = os.path.join(os.path.dirname(moto.__file__), "ec2", "resources")
    images = []
    for name in ("amis.json.gz", os.path.join("latest_amis", "us-east-1.json.gz")):
        with gzip.open(os.path.join(base, name)) as f:
            images.extend(json.load(f))
    # An Ubuntu image of moto's own as the template: root device /dev/sda1, EBS backed.
    template = next(i for i in images if i["ami_id"] == "ami-785db401")
    for ami, arch, date in JAMMY:
        a = "amd64" if arch == "x86_64" else "arm64"
        image = dict(template)
        image.update(
            ami_id=ami,
            architecture=arch,
            name=f"ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-{a}-server-{date}",
            description=f"Canonical, Ubuntu, 22.04 LTS, {a} jammy image build on {date}",
            creation_date=f"{date[:4]}-{date[4:6]}-{date[6:]}T00:00:00.000Z",
        )
        images.append(image)
    with open(out, "w") as f:
        json.dump(images, f)
    print(f"wrote {out}: {len(images)} images")


if __name__ == "__main__":
    main(sys.argv[1])
