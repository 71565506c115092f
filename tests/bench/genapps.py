#!/usr/bin/python3
"""Write Argo CD Applications for a `dir` source, one file each, for the benchmark.

  genapps.py semver DIR COUNT REGISTRY REPO_URL
      COUNT Applications, each tracking one image of bench/svc-NNN (genstore.py) with a semver
      constraint on one major version: app i uses repository i % 200 and major (i // 200) % 5 + 1,
      so 1,000 apps track 1,000 distinct (repository, major) pairs over 200 repositories. The
      current tag (Helm parameter image.tag in the Application) is the newest of that major,
      M.9.9, except for every fifth app, which runs M.9.7 and so has an update waiting.
  genapps.py scale DIR COUNT REGISTRY REPO_URL
      COUNT Applications over COUNT / 25 repositories of scale/r-NNNN (at most 2,000): app i
      tracks repository i % (COUNT / 25) with the constraint ~1.<i % 5>, running 1.<i % 5>.8, so
      every app has an update (1.<i % 5>.9) waiting; the images of a repository share its tag
      list, and every five of them a selection.
  genapps.py newest DIR COUNT REGISTRY REPO_URL
      COUNT Applications (COUNT <= 50), app i tracking nb/build-ii with newest-build; current
      tag b000.

REPO_URL is the cluster-config repository every Application's spec.source points at (a chart at
charts/svc). Prints the number of images with an update waiting.
"""
import os
import sys

APP = """apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: {name}
  namespace: argocd
  annotations:
    argocd-image-updater.argoproj.io/image-list: app={image}{constraint}
    argocd-image-updater.argoproj.io/app.update-strategy: {strategy}
    argocd-image-updater.argoproj.io/write-back-method: git
spec:
  project: default
  source:
    repoURL: {repo_url}
    targetRevision: main
    path: charts/svc
    helm:
      parameters:
        - name: image.name
          value: {image}
        - name: image.tag
          value: "{tag}"
  destination:
    server: https://kubernetes.default.svc
    namespace: {name}
"""


def main():
    if len(sys.argv) != 6:
        sys.exit(__doc__)
    kind, out, count, registry, repo_url = sys.argv[1:]
    count = int(count)
    os.makedirs(out, exist_ok=True)
    updates = 0
    for i in range(count):
        if kind == "semver":
            major = (i // 200) % 5 + 1
            stale = i % 5 == 4
            updates += stale
            name = "svc-%05d" % i
            image = "%s/bench/svc-%03d" % (registry, i % 200)
            fields = dict(name=name, image=image, constraint=":^%d.0" % major, strategy="semver",
                          tag="%d.9.%d" % (major, 7 if stale else 9))
        elif kind == "scale":
            repos = max(1, min(2000, count // 25))
            minor = i % 5
            updates += 1
            name = "sc-%05d" % i
            image = "%s/scale/r-%04d" % (registry, i % repos)
            fields = dict(name=name, image=image, constraint=":~1.%d" % minor, strategy="semver",
                          tag="1.%d.8" % minor)
        else:
            updates += 1
            name = "nb-%02d" % i
            image = "%s/nb/build-%02d" % (registry, i)
            fields = dict(name=name, image=image, constraint="", strategy="newest-build",
                          tag="b000")
        with open(os.path.join(out, name + ".yaml"), "w") as f:
            f.write(APP.format(repo_url=repo_url, **fields))
    print(updates)


if __name__ == "__main__":
    main()
