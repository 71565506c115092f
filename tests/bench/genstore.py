#!/usr/bin/python3
"""Write docker-registry's (distribution 2.8) filesystem storage directly, for the benchmark.

  genstore.py ROOT

Pushing 110,000 tags through the API would take far longer than writing the files the filesystem
driver reads (about two minutes here). What is written (under ROOT/docker/registry/v2):

  blobs/sha256/<2>/<hex>/data                                    manifests, configs, layers
  repositories/<repo>/_layers/sha256/<hex>/link                  blobs the repository may serve
  repositories/<repo>/_manifests/revisions/sha256/<hex>/link     manifests it holds
  repositories/<repo>/_manifests/tags/<tag>/current/link         where the tag points
  repositories/<repo>/_manifests/tags/<tag>/index/sha256/<hex>/link

Three sets (names are fixed; bench.sh and genapps.py rely on them):
  bench/svc-000 … bench/svc-199   500 semver tags each: 1.0.0 … 5.9.9; one image manifest per
                                  major version (tags of a major share it)
  nb/build-00 … nb/build-49       200 tags b000 … b199 each, every tag its own image with its
                                  own config and `created` (one hour apart), for newest-build
  scale/r-0000 … scale/r-1999     50 semver tags each: 1.0.0 … 1.4.9, one image manifest per
                                  repository, for the scale curve (up to 50,000 images)
"""
import hashlib
import json
import os
import sys

# bench.sh keeps the storage as build/bench-cache/store-v<LAYOUT>: change it whenever what is
# written changes, so old storage is not reused.
LAYOUT = "2"
SEMVER_REPOS = 200
NB_REPOS = 50
NB_TAGS = 200
SCALE_REPOS = 2000
SCALE_TAGS = ["1.%d.%d" % (mi, pa) for mi in range(5) for pa in range(10)]


def semver_tags():
    return ["%d.%d.%d" % (ma, mi, pa) for ma in range(1, 6) for mi in range(10) for pa in range(10)]


class Store:
    def __init__(self, root):
        self.v2 = os.path.join(root, "docker", "registry", "v2")
        self.blobs = set()

    def blob(self, data):
        hexd = hashlib.sha256(data).hexdigest()
        if hexd not in self.blobs:
            d = os.path.join(self.v2, "blobs", "sha256", hexd[:2], hexd)
            os.makedirs(d, exist_ok=True)
            with open(os.path.join(d, "data"), "wb") as f:
                f.write(data)
            self.blobs.add(hexd)
        return hexd

    @staticmethod
    def link(path, hexd):
        os.makedirs(path, exist_ok=True)
        with open(os.path.join(path, "link"), "w") as f:
            f.write("sha256:" + hexd)

    def repo_dir(self, repo):
        return os.path.join(self.v2, "repositories", repo)

    def image(self, repo, created, label):
        """An image manifest (Docker schema 2) with its config and one layer; linked into repo.
        Returns (manifest hex digest)."""
        layer = ("layer %s" % label).encode()
        cfg = {"architecture": "amd64", "os": "linux", "created": created,
               "config": {"Labels": {"bench": label}},
               "rootfs": {"type": "layers",
                          "diff_ids": ["sha256:" + hashlib.sha256(layer).hexdigest()]}}
        cfgb = json.dumps(cfg, sort_keys=True).encode()
        ch, lh = self.blob(cfgb), self.blob(layer)
        m = {"schemaVersion": 2,
             "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
             "config": {"mediaType": "application/vnd.docker.container.image.v1+json",
                        "digest": "sha256:" + ch, "size": len(cfgb)},
             "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                         "digest": "sha256:" + lh, "size": len(layer)}]}
        mb = json.dumps(m, indent=3).encode()
        mh = self.blob(mb)
        rd = self.repo_dir(repo)
        for h in (ch, lh):
            self.link(os.path.join(rd, "_layers", "sha256", h), h)
        self.link(os.path.join(rd, "_manifests", "revisions", "sha256", mh), mh)
        return mh

    def tag(self, repo, tag, mh):
        td = os.path.join(self.repo_dir(repo), "_manifests", "tags", tag)
        self.link(os.path.join(td, "current"), mh)
        self.link(os.path.join(td, "index", "sha256", mh), mh)


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    st = Store(sys.argv[1])
    tags = semver_tags()
    for r in range(SEMVER_REPOS):
        repo = "bench/svc-%03d" % r
        per_major = {}
        for t in tags:
            major = t.split(".")[0]
            if major not in per_major:
                per_major[major] = st.image(repo, "2024-0%s-01T00:00:00Z" % major,
                                            "%s:%s" % (repo, major))
            st.tag(repo, t, per_major[major])
    for r in range(NB_REPOS):
        repo = "nb/build-%02d" % r
        for i in range(NB_TAGS):
            created = "2024-03-%02dT%02d:00:00Z" % (1 + i // 24, i % 24)
            st.tag(repo, "b%03d" % i, st.image(repo, created, "%s:%d" % (repo, i)))
    for r in range(SCALE_REPOS):
        repo = "scale/r-%04d" % r
        mh = st.image(repo, "2024-05-01T00:00:00Z", repo)
        for t in SCALE_TAGS:
            st.tag(repo, t, mh)


if __name__ == "__main__":
    main()
