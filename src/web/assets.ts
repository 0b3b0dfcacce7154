// Every static asset is imported as an embedded file, so the compiled executable serves them with no disk or network.
import appCss from "../../static/app.css" with { type: "file" };
// @ts-ignore: a JavaScript file embedded as a path
import appJs from "../../static/app.js" with { type: "file" };
// @ts-ignore: a JavaScript file embedded as a path
import htmx from "../../node_modules/htmx.org/dist/htmx.min.js" with { type: "file" };
// @ts-ignore: a JavaScript file embedded as a path
import visNetwork from "../../node_modules/vis-network/standalone/umd/vis-network.min.js" with { type: "file" };
// @ts-ignore: a JavaScript file embedded as a path
import threeModule from "../../node_modules/three/build/three.module.js" with { type: "file" };
// @ts-ignore: a JavaScript file embedded as a path
import threeCore from "../../node_modules/three/build/three.core.js" with { type: "file" };
// @ts-ignore: a JavaScript file embedded as a path
import viewerJs from "../../static/viewer.js" with { type: "file" };
// @ts-ignore: a JavaScript file embedded as a path
import sliceViewerJs from "../../static/viewer/slice-viewer.js" with { type: "file" };
// @ts-ignore: a JavaScript file embedded as a path
import viewerNumbersJs from "../../static/viewer/numbers.js" with { type: "file" };
// @ts-ignore: a JavaScript file embedded as a path
import domJs from "../../static/lib/dom.js" with { type: "file" };
import viewerCss from "../../static/viewer.css" with { type: "file" };
// @ts-ignore: graph.js is a JavaScript file embedded as a path
import graphJs from "../../static/graph.js" with { type: "file" };
import graphCss from "../../static/graph.css" with { type: "file" };
import searchCss from "../../static/search.css" with { type: "file" };

// @ts-ignore: a JavaScript file embedded as a path
import meshViewer from "../../static/mesh-viewer.js" with { type: "file" };
// @ts-ignore: a JavaScript file embedded as a path
import gltfLoader from "../../node_modules/three/examples/jsm/loaders/GLTFLoader.js" with { type: "file" };
// @ts-ignore: a JavaScript file embedded as a path
import orbitControls from "../../node_modules/three/examples/jsm/controls/OrbitControls.js" with { type: "file" };
// @ts-ignore: a JavaScript file embedded as a path
import bufferGeometryUtils from "../../node_modules/three/examples/jsm/utils/BufferGeometryUtils.js" with { type: "file" };
// @ts-ignore: a JavaScript file embedded as a path
import skeletonUtils from "../../node_modules/three/examples/jsm/utils/SkeletonUtils.js" with { type: "file" };
// @ts-ignore: a JavaScript file embedded as a path
import meshoptDecoder from "../../node_modules/three/examples/jsm/libs/meshopt_decoder.module.js" with { type: "file" };
// @ts-ignore: a JavaScript file embedded as a path (metadata)
import tagsJs from "../../static/tags.js" with { type: "file" };
// @ts-ignore: a JavaScript file embedded as a path
import swaggerBundle from "../../node_modules/swagger-ui-dist/swagger-ui-bundle.js" with { type: "file" };
import swaggerCss from "../../node_modules/swagger-ui-dist/swagger-ui.css" with { type: "file" };
// @ts-ignore: a JavaScript file embedded as a path
import apiDocsJs from "../../static/api-docs.js" with { type: "file" };
// @ts-ignore: a JavaScript file embedded as a path
import tagsFlashJs from "../../static/tags/flash.js" with { type: "file" };
// @ts-ignore: a JavaScript file embedded as a path
import tagsSuggestJs from "../../static/tags/suggest.js" with { type: "file" };
import datasetsCss from "../../static/datasets.css" with { type: "file" };

/** URL path under /static/ -> embedded file path. Features add their own files here. */
export const ASSETS: Record<string, string> = {
  "tags.js": tagsJs,
  "tags/flash.js": tagsFlashJs,
  "tags/suggest.js": tagsSuggestJs,
  "viewer.js": viewerJs,
  "viewer/slice-viewer.js": sliceViewerJs,
  "viewer/numbers.js": viewerNumbersJs,
  "lib/dom.js": domJs,
  "viewer.css": viewerCss,
  "datasets.css": datasetsCss,
  "graph.js": graphJs,
  "graph.css": graphCss,
  "search.css": searchCss,
  "app.css": appCss,
  "app.js": appJs,
  "vendor/htmx.min.js": htmx,
  "vendor/vis-network.min.js": visNetwork,
  "vendor/three.module.js": threeModule,
  "vendor/three.core.js": threeCore,
  "mesh-viewer.js": meshViewer,
  "api-docs.js": apiDocsJs,
  "vendor/swagger-ui/swagger-ui-bundle.js": swaggerBundle,
  "vendor/swagger-ui/swagger-ui.css": swaggerCss,
  "vendor/three/addons/loaders/GLTFLoader.js": gltfLoader,
  "vendor/three/addons/controls/OrbitControls.js": orbitControls,
  "vendor/three/addons/utils/BufferGeometryUtils.js": bufferGeometryUtils,
  "vendor/three/addons/utils/SkeletonUtils.js": skeletonUtils,
  "vendor/three/addons/libs/meshopt_decoder.module.js": meshoptDecoder,
};
