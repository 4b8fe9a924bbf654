export { uploadParts } from './engine.js';
import '../index.js';
