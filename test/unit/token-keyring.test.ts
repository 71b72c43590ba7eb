/**
 * The mixed key ring (HS256 secrets, ES256 and Ed25519 JWKs), algorithm confusion, and
 * the JWKS the edge publishes — checked with jose's own verifier, as an origin would.
 */
import { env } from "cloudflare:workers";
import { SignJWT, base64url, createLocalJWKSet, exportJWK, generateKeyPair, jwtVerify, type JWK } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../../workers/edge/app.ts";
import { resolveKeyRing, type KeyRing } from "../../workers/edge/token/keyring.ts";
import { mintAffinityToken } from "../../workers/edge/token/mint.ts";
import { verifyAffinityToken } from "../../workers/edge/token/verify.ts";

const NOW = 1_800_000_000;
const HS_SECRET = base64url.encode(new Uint8Array(32).fill(7));

let es: { priv: JWK; pub: JWK };
let ed: { priv: JWK; pub: JWK };
let other: { priv: JWK; pub: JWK };
let affinityKeys: string;
let ring: KeyRing;

async function pair(alg: "ES256" | "Ed25519") {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { priv: await exportJWK(privateKey), pub: await exportJWK(publicKey) };
}

beforeAll(async () => {
  es = await pair("ES256");
  ed = await pair("Ed25519");
  other = await pair("ES256");
  affinityKeys = JSON.stringify({ h1: HS_SECRET, e1: es.priv, d1: ed.priv, p1: other.pub });
  ring = resolveKeyRing({ AFFINITY_KEYS: affinityKeys, AFFINITY_SIGNING_KID: "e1" });
});

const ringSigning = (kid: string) => resolveKeyRing({ AFFINITY_KEYS: affinityKeys, AFFINITY_SIGNING_KID: kid });
const mintWith = async (kid: string) =>
  (await mintAffinityToken(ringSigning(kid), { sk: "sk-1", origin: "o1", pool: "default", ttlSeconds: 600, now: NOW })).token;
const header = (token: string) => JSON.parse(new TextDecoder().decode(base64url.decode(token.split(".")[0] ?? ""))) as Record<string, unknown>;
const unsigned = (h: Record<string, unknown>) =>
  new SignJWT({ sk: "sk-1", o: "o1" }).setProtectedHeader(h as { alg: string }).setAudience("default").setIssuedAt(NOW).setExpirationTime(NOW + 600);

describe("mixed key ring", () => {
  it("signs with the signing key's algorithm and verifies every key's tokens", async () => {
    for (const [kid, alg] of [["h1", "HS256"], ["e1", "ES256"], ["d1", "EdDSA"]] as const) {
      const token = await mintWith(kid);
      expect(header(token)).toMatchObject({ alg, kid });
      expect(await verifyAffinityToken(ring, token, "default", NOW)).toMatchObject({ ok: true, kid, claims: { sk: "sk-1", o: "o1" } });
    }
  });

  it("verifies with a public-only key, which cannot be the signing key", async () => {
    // Signed elsewhere (say, by the previous deployment) with the private half.
    const elsewhere = resolveKeyRing({ AFFINITY_KEYS: JSON.stringify({ p1: other.priv }), AFFINITY_SIGNING_KID: "p1" });
    const token = (await mintAffinityToken(elsewhere, { sk: "sk-1", origin: "o1", pool: "default", ttlSeconds: 600, now: NOW })).token;
    expect(await verifyAffinityToken(ring, token, "default", NOW)).toMatchObject({ ok: true, kid: "p1" });
    expect(() => ringSigning("p1")).toThrow(/^AFFINITY_SIGNING_KID: .*public/);
    expect(ring.key("p1")).toMatchObject({ alg: "ES256", canSign: false });
  });

  it("is built once per distinct configuration, not per call", () => {
    expect(resolveKeyRing({ AFFINITY_KEYS: affinityKeys, AFFINITY_SIGNING_KID: "e1" })).toBe(ring);
    expect(ring.key("e1")?.verifyKey()).toBe(ring.key("e1")?.verifyKey());
  });

  it("names the bad field of a bad JWK", () => {
    const bad = (entry: unknown) => () => resolveKeyRing({ AFFINITY_KEYS: JSON.stringify({ h1: HS_SECRET, k: entry }), AFFINITY_SIGNING_KID: "h1" });
    expect(bad({ kty: "RSA", n: "x", e: "AQAB" })).toThrow(/^AFFINITY_KEYS\.k\.kty: /);
    expect(bad({ ...es.pub, crv: "P-384" })).toThrow(/^AFFINITY_KEYS\.k\.crv: /);
    expect(bad({ ...es.pub, x: "AAAA" })).toThrow(/^AFFINITY_KEYS\.k\.x: /);
    expect(bad({ ...es.pub, y: undefined })).toThrow(/^AFFINITY_KEYS\.k\.y: /);
    expect(bad({ ...es.priv, d: "not base64url!" })).toThrow(/^AFFINITY_KEYS\.k\.d: /);
    expect(bad({ ...es.pub, alg: "HS256" })).toThrow(/^AFFINITY_KEYS\.k\.alg: /);
    expect(bad({ ...ed.pub, alg: "ES256" })).toThrow(/^AFFINITY_KEYS\.k\.alg: /);
    expect(bad({ ...es.pub, kid: "someone-else" })).toThrow(/^AFFINITY_KEYS\.k\.kid: /);
    expect(bad({ ...es.pub, use: "enc" })).toThrow(/^AFFINITY_KEYS\.k\.use: /);
    expect(bad({ kty: "oct", k: "c2hvcnQ" })).toThrow(/^AFFINITY_KEYS\.k\.k: /);
    expect(bad(42)).toThrow(/^AFFINITY_KEYS\.k: /);
  });
});

describe("algorithm confusion", () => {
  it("refuses an HS256 token made with an ES256 public key as HMAC secret", async () => {
    // The classic attack: the verifier's public key is public, so an attacker HMACs with it.
    for (const secret of [new TextEncoder().encode(JSON.stringify(es.pub)), base64url.decode(es.pub.x ?? ""), new TextEncoder().encode(es.pub.x ?? "")]) {
      const forged = await unsigned({ alg: "HS256", kid: "e1" }).sign(secret);
      expect(await verifyAffinityToken(ring, forged, "default", NOW)).toMatchObject({ ok: false, reason: "bad_algorithm" });
    }
  });

  it('refuses alg "none", with or without a signature', async () => {
    const token = await mintWith("e1");
    const [, p, s] = token.split(".");
    for (const kid of ["e1", "h1"]) {
      const none = base64url.encode(JSON.stringify({ alg: "none", kid }));
      expect(await verifyAffinityToken(ring, `${none}.${p}.`, "default", NOW)).toMatchObject({ ok: false, reason: "bad_algorithm" });
      expect(await verifyAffinityToken(ring, `${none}.${p}.${s}`, "default", NOW)).toMatchObject({ ok: false, reason: "bad_algorithm" });
    }
  });

  it("refuses a header alg that differs from its key's, even when the signature is right for that alg", async () => {
    // An Ed25519 key's real signature, labelled with the ES256 key's kid.
    const d1 = ring.key("d1");
    if (d1 === undefined) throw new Error("no d1");
    const relabelled = await unsigned({ alg: "EdDSA", kid: "e1" }).sign(await d1.signKey());
    expect(await verifyAffinityToken(ring, relabelled, "default", NOW)).toMatchObject({ ok: false, reason: "bad_algorithm" });
    // An ES256 token naming the HMAC key.
    const e1 = ring.key("e1");
    if (e1 === undefined) throw new Error("no e1");
    const onHmac = await unsigned({ alg: "ES256", kid: "h1" }).sign(await e1.signKey());
    expect(await verifyAffinityToken(ring, onHmac, "default", NOW)).toMatchObject({ ok: false, reason: "bad_algorithm" });
    // The right alg for the kid, signed by another key of that type.
    const wrongKey = await unsigned({ alg: "ES256", kid: "p1" }).sign(await e1.signKey());
    expect(await verifyAffinityToken(ring, wrongKey, "default", NOW)).toMatchObject({ ok: false, reason: "bad_signature" });
  });

  it("refuses algorithms outside the allow-list", async () => {
    const { privateKey } = await generateKeyPair("RS256");
    const rs = await unsigned({ alg: "RS256", kid: "e1" }).sign(privateKey);
    expect(await verifyAffinityToken(ring, rs, "default", NOW)).toMatchObject({ ok: false, reason: "bad_algorithm" });
    const hs512 = await unsigned({ alg: "HS512", kid: "h1" }).sign(new Uint8Array(64).fill(7));
    expect(await verifyAffinityToken(ring, hs512, "default", NOW)).toMatchObject({ ok: false, reason: "bad_algorithm" });
  });
});

describe("JWKS", () => {
  it("lists the asymmetric keys' public halves only", () => {
    const { keys } = ring.jwks();
    expect(keys.map((k) => k.kid).sort()).toEqual(["d1", "e1", "p1"]);
    expect(keys.find((k) => k.kid === "e1")).toEqual({ kty: "EC", crv: "P-256", x: es.pub.x, y: es.pub.y, kid: "e1", alg: "ES256", use: "sig" });
    expect(keys.find((k) => k.kid === "d1")).toEqual({ kty: "OKP", crv: "Ed25519", x: ed.pub.x, kid: "d1", alg: "EdDSA", use: "sig" });
    const text = JSON.stringify(keys);
    expect(text).not.toContain('"d"');
    expect(text).not.toContain('"k"');
    expect(text).not.toContain(HS_SECRET);
  });

  it("is served publicly at /_edge/.well-known/jwks.json and verifies the edge's tokens", async () => {
    const app = createApp();
    const res = await app.request("http://push.example.com/_edge/.well-known/jwks.json", {}, { ...env, AFFINITY_KEYS: affinityKeys, AFFINITY_SIGNING_KID: "e1" });
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("public, max-age=300");
    const jwks = (await res.json()) as { keys: JWK[] };
    expect(jwks).toEqual(ring.jwks());
    const verifyWith = createLocalJWKSet(jwks as { keys: JWK[] });
    for (const kid of ["e1", "d1"]) {
      const { payload } = await jwtVerify(await mintWith(kid), verifyWith, { currentDate: new Date(NOW * 1000) });
      expect(payload).toMatchObject({ sk: "sk-1", o: "o1", aud: "default" });
    }
    // An HS256-only ring publishes an empty set.
    const hsOnly = await app.request("http://push.example.com/_edge/.well-known/jwks.json", {}, env);
    expect(await hsOnly.json()).toEqual({ keys: [] });
  });
});
