export { upload } from './upload.js';
import '../index.js';
