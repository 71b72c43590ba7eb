// Worker modules the local stack runs in Node (the configuration parser) name Web Crypto's
// global CryptoKey type, which Node's types keep under crypto.webcrypto.
type CryptoKey = import("node:crypto").webcrypto.CryptoKey;
