// npm's preinstall step: one clear line, and a failed install, when npm runs on a Node
// older than 18. Newer ones are fine whatever their version: every npm script and the CLI
// run on the Node 22 this package pins (the `node` devDependency), so npm's EBADENGINE
// warnings are silenced (.npmrc) and this is the only Node version check at install.
// Plain JavaScript, so that any Node can run it. The Node that runs npm is in npm's user
// agent ("npm/8.19.4 node/v16.20.2 linux x64 ..."); `node` here is usually the pinned one.
const MIN_MAJOR = 18;

const agent = process.env.npm_config_user_agent || "";
const match = / node\/v(\d+)\.(\S+)/.exec(agent);
const version = match ? `v${match[1]}.${match[2]}` : process.version;
const major = Number((match ? match[1] : process.versions.node.split(".")[0]) || 0);

if (major < MIN_MAJOR) {
  process.stderr.write(
    `push-edge: npm runs on Node ${version} here; installing this project needs Node >= ${MIN_MAJOR} (it then runs on the Node 22 it pins): install a newer Node and run npm install again\n`,
  );
  process.exit(1);
}
