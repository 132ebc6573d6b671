// Vite bundles imported style sheets into the build's one CSS file.
declare module "*.css";
